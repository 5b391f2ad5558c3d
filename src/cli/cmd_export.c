/* fer-cl export: a checkpoint's network as an ONNX model, for deployment. */
#include <stdio.h>

#include "cli/cli.h"
#include "fercl/onnx.h"

static const char *export_model, *export_onnx;

/* Option tables and command specs keep one entry a line. */
// clang-format off
static const fc_option export_options[] = {
    FC_OPTION_STRING("model", &export_model, "FILE", "checkpoint written by fer-cl train (the teacher is exported)"),
    FC_OPTION_STRING("onnx", &export_onnx, "OUT", "ONNX file to write (replaced atomically)"),
    {0}};

static const fc_args_spec export_spec = {
    .command = "export",
    .usage = "--model FILE --onnx OUT.onnx",
    .summary = "Writes the network of a checkpoint as an ONNX model (opset 17): input 'input', float32\n"
               "[N, C, S, S] pixel values 0-255 (normalisation inside the graph); output 'logits' [N, classes];\n"
               "metadata 'classes' lists the class names in output order. Needs no OpenCL device.",
    .options = export_options,
    .global_options = fc_cli_global_options};
// clang-format on

int fc_cmd_export(int argc, char **argv) {
  int rc = fc_cli_parse_no_args(&export_spec, argc, argv, NULL);
  if (rc >= 0) return rc;
  if (!export_model || !export_onnx) {
    fprintf(stderr,
            "fer-cl: error: fer-cl export needs --model FILE and --onnx OUT.onnx (see 'fer-cl "
            "export --help')\n");
    return 2;
  }
  fc_onnx_summary s;
  fc_status st = fc_onnx_export(export_model, export_onnx, &s);
  if (st != FC_OK) return fc_cli_fail(st);
  const fc_net_config *c = &s.meta.config;
  if (!fc_cli.quiet)
    printf(
        "wrote %s: %s x%g, %s stem, opset %d, %d nodes, %zu parameters (%.1f MB); input 'input' "
        "[N, %d, %d, %d] "
        "pixels 0-255, output 'logits' [N, %d]\n",
        export_onnx, c->arch, c->width, fc_stem_name(c->stem), FC_ONNX_OPSET, s.nodes, s.parameters,
        (double)s.bytes / 1e6, c->in_channels, c->input_size, c->input_size, c->num_classes);
  return 0;
}
