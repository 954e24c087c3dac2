"""Networks the bench builds from code; see :mod:`bench.networks.registry`."""
from bench.networks.registry import NetworkSpec, get_network, network_for_dln, networks, register_network

__all__ = ["NetworkSpec", "get_network", "network_for_dln", "networks", "register_network"]
