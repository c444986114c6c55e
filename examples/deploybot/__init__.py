"""DeployBot: a small app that asks a Hermes agent to deploy and supervises the run."""
