"""A local replay site: saved pages served at the paths they came from, with fault injection."""
