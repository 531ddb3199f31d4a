"""Experiments that train small networks with PoolScope's operators (they need scikit-learn)."""
