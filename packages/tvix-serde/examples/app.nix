# Configuration of a small web service, using what Nix offers over JSON or TOML:
# variables, functions, imports and computed values.
let
  common = import ./common.nix;

  mkWorker = name: queues: {
    inherit name queues;
    concurrency = if builtins.length queues > 1 then 4 else 1;
  };
in
{
  name = "shop";
  environment = "Production";
  listen = { host = "0.0.0.0"; port = common.basePort + 1; };

  database = {
    url = "postgresql://db.internal/shop";
    poolSize = 20;
    timeoutSeconds = 2.5;
  };

  dataDir = /var/lib/shop;

  workers = [
    (mkWorker "mail" [ "mail" ])
    (mkWorker "billing" [ "invoices" "refunds" ])
  ];

  features = builtins.listToAttrs (map (name: { inherit name; value = true; }) common.features);

  # Not needed by the application: never evaluated when loading into `AppConfig`.
  debugDump = throw "only for debugging";
}
