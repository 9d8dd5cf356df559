"""Files attached to messages, proposals and milestone submissions."""
