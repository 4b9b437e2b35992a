"""The step types: one module each (a settings model, its save-time checks, and later its run
function), listed once in ``steps.registry``."""
