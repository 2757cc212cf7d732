"""Chain clients: deployment of the protocol, governance round trips, deployment manifests."""
