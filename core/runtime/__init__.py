"""What keeps a shared server running: background jobs, CPU threads, files, sessions.

``jobs`` is the queue that runs training and evaluation off the page, handing
each job to an ``executor``: this process, or a Ray cluster (``ray_executor``),
``threads`` caps torch's CPU threads, ``workspace`` owns the files on disk,
``sessions`` keeps each browser's state apart and ``warmup`` prepares models
before the first visitor.
"""
