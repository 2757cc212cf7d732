"""The end-to-end story behind `./dev demo`: a governance round trip, then a digits model bounty with real proofs."""
