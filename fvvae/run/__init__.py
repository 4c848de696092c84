"""The machinery that runs the chain: the paper's protocol on a train and a
test list (protocol: the chain alone), its settings and data (settings),
the one place where steps become tool processes (adapter), resumable
stages (stages), streaming within a disk budget (streaming, streamed) and
cluster shards (shards), the demo (demo), the
evidence (evidence, evidence_report), section 5.4 (analysis), a finished
run taken away (takeaway), the tools' logs (toollog). Only tools import it."""
