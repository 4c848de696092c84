"""A frame's way in, and the files it leaves: image and frame lists
(image_list), pixels to the trunk's input blob (preprocess, matlab_resize),
the blobs loaded ahead of the net (loader), descriptor sets in LMDB
(descriptor_store), representation files in HDF5 (representations), every
input checked before any work (input_check), and a full disk named
(diskspace). Imports nothing else of fvvae but fvvae.files."""
