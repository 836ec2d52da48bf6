"""One small module per CLI command (thin: parse, call the pipeline once, report)."""
