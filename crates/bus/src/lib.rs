//! DECNET bus client.
