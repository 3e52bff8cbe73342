"""Rule packs shipped with exaudit. Installed as the package data `analyzer.rules`; the YAML files are the rules."""
