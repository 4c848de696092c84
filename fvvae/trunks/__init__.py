"""The CNN trunks that give the convolutional activations (section 5.2):
the trunk zoo and its weights (zoo), the descriptor-set heads over an
activation map (descriptors: whole-map L2 x scale, SPP or per position),
random caffemodels of the public shapes (random_weights), CPU or GPU for a
net (device), nets kept loaded in a long-lived process (netcache), the
trunk's pass over a list into descriptor stores (extraction)."""
