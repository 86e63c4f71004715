# The grading image: the grader installed from its own wheel on Debian's Python, with no
# reference solutions inside (mount them at /solutions), so the image itself can be public.
#
#   docker build -t grader:0.1.0 .
#   docker run --rm --network none -v "$PWD/subs:/subs:ro" -v "$PWD/solutions:/solutions:ro" \
#       grader:0.1.0 grade /subs
#
# PrairieLearn runs it with its own entrypoint (a question's tests/run.sh, which passes the
# solution in tests/solutions); see README.md, "Docker image".

# Stage 1: the wheel, built offline from the source as `pip wheel --no-deps
# --no-build-isolation` builds it everywhere else (tests/test_distribution.py checks that it
# holds the grader and no solution).
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
RUN pip install --no-cache-dir "setuptools>=68" "wheel>=0.40"
COPY pyproject.toml README.md ./
COPY grader/ grader/
RUN pip wheel --no-deps --no-build-isolation -w /wheels .

# Stage 2: the image, with the wheel and its dependencies installed, nothing else.
FROM python:3.11-slim-bookworm
COPY --from=wheel /wheels/ /tmp/wheels/
RUN pip install --no-cache-dir /tmp/wheels/dl_fundamentals_grader-*.whl && rm -rf /tmp/wheels \
    && grader --version
ENV GRADER_SOLUTIONS=/solutions
WORKDIR /work
ENTRYPOINT ["grader"]
CMD ["--help"]
