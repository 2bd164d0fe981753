/*
 * proto/code/signature: a definition's signature, the names its parameter
 * list holds and a Rust item's reach, read from a chunk's text as the
 * index stores it (a repository's bytes).
 *
 * The input is a name (an identifier) and a text, cut at the first NUL.  Invariants:
 * a signature found lies inside the text, spans 1 to SIGNATURE_LINES_MAX
 * lines and holds the name; the parameters' names are NUL-terminated, as
 * long as returned, fit the buffer, and are identifiers joined by `_`; a
 * smaller buffer holds a prefix of the same names; the reach is one of
 * the three.
 */
#include "proto/code/ident.h"
#include "proto/code/signature.h"
#include "tests/fuzz/fuzz.h"

static void check_params(const char *sig, size_t len, const char *name, size_t n) {
    char out[64], small[8];
    size_t got = signature_params(sig, len, name, n, out, sizeof out);
    FUZZ_ASSERT(got < sizeof out && strlen(out) == got);
    for (size_t i = 0; i < got; i++)
        FUZZ_ASSERT(ident_ascii_char((unsigned char)out[i]));
    size_t few = signature_params(sig, len, name, n, small, sizeof small);
    FUZZ_ASSERT(few < sizeof small && strlen(small) == few);
    FUZZ_ASSERT(signature_params(sig, len, name, n, small, 0) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_piece_t piece[2];
    if (fuzz_split(data, size, 0, piece, 2) < 2 || piece[0].len == 0)
        return 0;
    char name[32];
    size_t n = piece[0].len < sizeof name - 1 ? piece[0].len : sizeof name - 1;
    memcpy(name, piece[0].data, n);
    name[n] = '\0';
    if (ident_len(name, n) != n)
        return 0; /* a definition's name is an identifier */
    const char *text = piece[1].data;
    size_t len = piece[1].len;
    signature_t sig;
    if (signature_find(text, len, name, n, &sig)) {
        FUZZ_ASSERT(sig.at <= len && sig.len <= len - sig.at);
        FUZZ_ASSERT(sig.lines >= 1 && sig.lines <= SIGNATURE_LINES_MAX);
        FUZZ_ASSERT(memmem(text + sig.at, sig.len, name, n) != NULL);
        signature_reach_t r = signature_rust_reach(text + sig.at, sig.len);
        FUZZ_ASSERT(r == SIGNATURE_PUBLIC || r == SIGNATURE_CRATE || r == SIGNATURE_PRIVATE);
        check_params(text + sig.at, sig.len, name, n);
    }
    check_params(text, len, name, n);
    signature_reach_t r = signature_rust_reach(text, len);
    FUZZ_ASSERT(r == SIGNATURE_PUBLIC || r == SIGNATURE_CRATE || r == SIGNATURE_PRIVATE);
    return 0;
}
