"""Jobs: one per command. Each reads its inputs, runs the models and writes its products.

A job takes plain values (paths, numbers, :class:`~.inputs.Position`) and a progress
callback, never click objects; it writes through :func:`~.output_folder.staged_output`, so a
failed job leaves its output folder as it found it, and returns a
:class:`~frigoris.rover.app.results.JobResult`.
"""
