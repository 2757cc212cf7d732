"""Long-running daemons (model prover, data delivery, compute provider, watchdog/challenger).

Each agent is a loop over chain state built on `base.Agent`: it polls, acts at most once per item (an
idempotency record kept in a JSON state file written atomically), and stops cleanly on SIGINT/SIGTERM. After a
crash it restarts from that file and from the chain, which stays the source of truth: an agent checks on chain
whether its action already happened before acting again.
"""
