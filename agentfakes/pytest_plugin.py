"""The pytest plugin: fixtures over the library, nothing more (entry point `pytest11`)."""
