"""The tvix command: evaluate Nix expressions, instantiate derivations into the store, and a REPL."""
