"""A copy of DeployBot with a bug planted on purpose, for the property tests to find.

The bug: it answers only the first approval request of a run (a flag meant to avoid
double answers). A run with two gates leaves the second one to time out. Example-based
tests with one gate never notice; `examples/test_deploybot_properties.py` does.
"""

from __future__ import annotations

from deploybot.bot import DeployBot, DeployReport


class PlantedBugDeployBot(DeployBot):
    """DeployBot, except that it answers only the first gate of a run."""

    def deploy(self, target: str) -> DeployReport:
        run_id = self.client.start(f"Deploy the app to {target}", session_id=f"deploy-{target}")
        report = DeployReport(run_id=run_id, status="running")
        answered = False
        for event in self.client.events(run_id):
            self._observe(report, event)
            if event["event"] == "approval.request" and not answered:  # the planted bug
                answered = True
                choice = "once" if self.policy(event["command"]) else "deny"
                report.decisions.append((event["command"], choice))
                self.client.approve(run_id, choice)
        final = self.client.status(run_id)
        report.status = final["status"]
        report.output = final.get("output")
        report.error = final.get("error")
        return report
