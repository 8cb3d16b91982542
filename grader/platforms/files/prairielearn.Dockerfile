# optimkit's PrairieLearn grading image. PrairieLearn runs linux/amd64 images, so build and push with
#   docker build --platform linux/amd64 -t @IMAGE@ .
#   docker push @IMAGE@
# then press "Sync" for the image on the course's Sync page.
FROM python:3.12-slim

RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu "@TORCH_SPEC@"
COPY @WHEEL@ grade optimkit.json rubric.json /optimkit/
RUN pip install --no-cache-dir /optimkit/@WHEEL@ \
 && rm /optimkit/@WHEEL@ \
 && chmod 0755 /optimkit/grade \
 && python -I -m grader.platforms.protect /optimkit \
 && python -I -c "import torch, grader.grading"

# Student code never runs as root; /optimkit and the installed kit (its reference solution) are root's alone.
ENTRYPOINT ["/optimkit/grade"]
