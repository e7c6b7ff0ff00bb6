"""HTTP plumbing: the middleware stack, the request dependencies every router shares, list
envelopes, negotiation and CSV, conditional requests, and the OpenAPI document."""
