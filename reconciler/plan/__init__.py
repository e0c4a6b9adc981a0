"""Planning: what to read (``reads``), the pure planner (``planner``), dependency order
(``graph``), and plan files (``planfile``, ``sealed``). ``reconciler.commands.plan`` puts them
together for a target."""
