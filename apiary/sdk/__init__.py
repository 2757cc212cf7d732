"""Typed clients over the deployed contracts: market reads and actions, integer amounts, error decoding,
transaction simulation, the deployment manifest and reusable CLI options."""
