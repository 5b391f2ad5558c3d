/* fer-cl: FC_API marks what libfercl exports, as ggml's GGML_API does.
 *
 * The library is compiled with hidden symbols by default (meson's
 * gnu_symbol_visibility 'hidden'), so a shared libfercl exports exactly the
 * functions and data declared FC_API in include/fercl/ (all named fc_...), and
 * nothing of its internals (tests/cli/check_exports.sh checks this). In a static
 * library the attribute changes nothing. */
#ifndef FERCL_API_H
#define FERCL_API_H

#if defined(__GNUC__)
#define FC_API __attribute__((visibility("default")))
#else
#define FC_API
#endif

#endif
