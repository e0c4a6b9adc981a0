"""``python -m reconciler.gitops ...`` is ``reconciler gitops ...``."""

from reconciler.cli.gitops import gitops

gitops(prog_name="python -m reconciler.gitops")
