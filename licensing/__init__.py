"""Hardware-locked, Ed25519-signed licenses with trusted time."""
