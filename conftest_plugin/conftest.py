"""Drop-in conftest for projects that disable pytest plugin autoloading.

With `PYTEST_DISABLE_PLUGIN_AUTOLOAD=1` (or `-p no:...` policies) the `pytest11` entry point
is not loaded. Copy this file to your project's root `conftest.py` (or merge the line
below into yours) to get agentfakes' fixtures, marker and options anyway.
"""

pytest_plugins = ["agentfakes.pytest_plugin"]
