# The stand-in for ollama/ollama in tests/compose/run: Debian's Node.js runs
# tests/fake-ollama behind an `ollama` command (ollama.mjs) that serves, lists
# and "pulls" as the real image's does.  Built from a context that holds
# fake-ollama.mjs with the modules it imports, and ollama.mjs.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*
COPY *.mjs /opt/fake-ollama/
RUN ln -s /opt/fake-ollama/ollama.mjs /usr/local/bin/ollama
EXPOSE 11434
ENTRYPOINT ["/usr/local/bin/ollama"]
CMD ["serve"]
