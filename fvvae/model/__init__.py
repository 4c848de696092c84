"""FV-VAE as Caffe nets: the configuration (config), the nets and solver
(nets), training through `caffe train` (training), the FIM and the Fisher
Vector of eq. 11-13 (fisher), the paper's experiments as committed nets
(experiments), fine-tuning a trunk (finetune), the authors' release (its
files: release_files; its weights as a Caffe head: official; frames to
their FVs: authors_route), compressing an FV (compression, section 5.4)."""
