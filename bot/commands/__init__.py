"""Slash commands' work off the acking process: a durable Redis queue and the command workers taking from it.

* :mod:`bot.commands.queue` — the stream acked commands wait in, bounded, with a consumer group;
* :mod:`bot.commands.worker` — a command worker: takes commands, does each one's work, answers it;
* :mod:`bot.commands.runner` — what a worker does for one command (its workspace's token and services);
* :mod:`bot.commands.process` — the worker processes ``phonebot serve`` starts and keeps running;
* :mod:`bot.commands.service` — wires those into a running phonebot (``/readyz``, metrics).
"""
