"""``handnet check``: a user's network (through its adapter) against the twin, with the plan,
the diagnosis, the report and the guarded process the user's code runs in."""
