//! Real-process tier: the node agent against real /proc, real BIRD in network namespaces, fake
//! sockets, and the poller against real and misbehaving agents.

#[path = "../support/mod.rs"]
mod support;

mod agent_bgp;
mod agent_netns;
mod agent_server;
mod agents_poller;
mod agents_prometheus;
