"""One module per family of checks; importing a module registers its checks."""
