"""Local format overrides (FORMAT_MODULE_PATH); anything not set here comes from Django's locale."""
