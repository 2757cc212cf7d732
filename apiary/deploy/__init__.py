"""Deployment: profiles, the governance core and the market, role handover to the timelock, governance
round trips, each recorded in the deployment manifest."""
