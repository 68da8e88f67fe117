"""One module per ``handnet`` subcommand; see ``handnet.cli``."""
