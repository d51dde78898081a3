"""How Python field names map to Nix attribute names."""

#: Dataclass field metadata key giving the Nix attribute name of a field when it differs from the
#: Python name: ``data_dir: str = field(metadata={NIX_NAME: "dataDir"})``.
NIX_NAME = "nix_name"
