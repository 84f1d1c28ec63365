"""Audio engine: decoding, segment plans, the processing chain and encoders."""
