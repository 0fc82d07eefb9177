"""pytest glue: the option table, the lazy plugin (entry point), hooks, fixtures."""
