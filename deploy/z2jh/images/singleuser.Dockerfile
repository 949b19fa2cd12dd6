# The students' image: JupyterLab with the kit. In hub mode no model runs in a kernel;
# the kit sends text to the Baeum service (KIT_SERVICE_URL). NOT TESTED here.
#
#   docker build -f deploy/z2jh/images/singleuser.Dockerfile -t registry.example.org/baeum/singleuser:0.1.0 .
#   docker push registry.example.org/baeum/singleuser:0.1.0
# Pin a dated tag of the base image for a school term.
FROM quay.io/jupyter/minimal-notebook:latest

# The CPU build of torch: a plain `torch` would pull a multi-GB CUDA build.
RUN pip install --no-cache-dir "torch>=2.4,<3" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir "baeum-kit[lab]"
