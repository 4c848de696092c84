"""CPU or GPU for every tool that runs a Caffe net or solver (`--gpu ID`).

Asked for a GPU, a Caffe built without CUDA aborts the process from deep
inside (glog's "Cannot use GPU in CPU-only Caffe", a core dump), and a CUDA
build on a machine without that device dies in its first CUDA call. Both are
checked here before any work, and the tool stops with one line that says
what is wrong and how to mend it (GpuUnavailable; exit status 2).
"""
import os
import subprocess

from fvvae import ROOT

CPU_ONLY_MARK = b"Cannot use GPU in CPU-only Caffe"
HOW_TO_BUILD = ("rebuild it with CUDA: FVVAE_CUDA=1 scripts/setup.sh on a machine with the "
                "CUDA toolkit (nvcc), or scripts/gpu_bundle.sh for a GPU node; or run without --gpu")


class GpuUnavailable(RuntimeError):
    pass


# the devices this process has found answering: one `caffe device_query` a
# process, not two a tool call (exit_unless_gpu, then use). A side's chunks
# run their tools in one process (tools/run_tools.py), and a UCF101 stream at
# --chunk 20 makes about 620 GPU tool calls (48 training chunks' trunk
# passes; 190 test chunks' trunk pass and two FV extractions), each query a
# Caffe process and a CUDA context of its own
_answered = set()


def libcaffe_path():
    """The libcaffe shared library this process has loaded (pycaffe imported)."""
    import caffe  # noqa: F401  (maps libcaffe)
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "libcaffe" in os.path.basename(path) and os.path.isfile(path):
                return path
    raise GpuUnavailable("cannot find the libcaffe library that pycaffe loaded")


def cuda_built(lib=None):
    """Whether Caffe was built with CUDA: a CPU_ONLY build carries the
    message of its NO_GPU stubs, a CUDA build does not."""
    with open(lib or libcaffe_path(), "rb") as f:
        return CPU_ONLY_MARK not in f.read()


def require_gpu(gpu, tool):
    """Raises GpuUnavailable (one line naming the tool) unless Caffe has CUDA
    and device `gpu` answers `caffe device_query`."""
    if gpu is None or gpu in _answered:
        return
    if gpu < 0:
        raise GpuUnavailable("%s: --gpu %d: a device id is 0 or more" % (tool, gpu))
    if not cuda_built():
        raise GpuUnavailable("%s: --gpu %d asked for a GPU, but this Caffe (%s) was built "
                             "without CUDA (CPU_ONLY); %s" % (tool, gpu, libcaffe_path(),
                                                              HOW_TO_BUILD))
    caffe_tool = os.path.join(ROOT, ".venv", "bin", "caffe")
    if os.path.exists(caffe_tool):
        res = subprocess.run([caffe_tool, "device_query", "-gpu", str(gpu)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            last = (res.stderr.strip().splitlines() or ["no output"])[-1]
            raise GpuUnavailable("%s: --gpu %d: Caffe has CUDA, but the device does not "
                                 "answer (%s)" % (tool, gpu, last.split("] ")[-1]))
    _answered.add(gpu)


def use(caffe, gpu, tool):
    """Caffe's mode for this process: CPU when gpu is None, else device gpu
    (checked first by require_gpu)."""
    if gpu is None:
        caffe.set_mode_cpu()
        return
    require_gpu(gpu, tool)
    caffe.set_mode_gpu()
    caffe.set_device(gpu)


def exit_unless_gpu(ap, gpu, tool):
    """For a tool's main(): require_gpu, or argparse's exit 2 with the line."""
    try:
        require_gpu(gpu, tool)
    except GpuUnavailable as e:
        ap.exit(2, "%s\n" % e)
