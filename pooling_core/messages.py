"""The English sentence of every :class:`~pooling_core.errors.PoolingError` and every
:class:`Message` the library returns (a notice, a note on gradients, arithmetic with words), by
message key.

Each template is filled with ``str.format`` from the error's fields. A field is a number or a
piece of text shown as it is (an operator or parameter id, a shape, a typed token, a value as
``repr`` writes it), never an English word, so a translation with the same keys and placeholders
(the app's ``pages/ui/i18n/zh_messages.toml``) can place every field where its own grammar needs it.
A sentence that differs by case (one value or several, a whole line or one row of it) has one
key per case.
"""

MESSAGES: dict[str, str] = {
    # Window geometry (geometry.py, api.py, the blur and fractional operators).
    "geometry.kernel_size_not_whole": "kernel size must be a whole number or a pair of whole numbers, not {value}.",
    "geometry.stride_not_whole": "stride must be a whole number or a pair of whole numbers, not {value}.",
    "geometry.padding_not_whole": "padding must be a whole number or a pair of whole numbers, not {value}.",
    "geometry.dilation_not_whole": "dilation must be a whole number or a pair of whole numbers, not {value}.",
    "geometry.output_size_not_whole": "output size must be a whole number or a pair of whole numbers, not {value}.",
    "geometry.kernel_below_one": "kernel size must be at least 1, not {kernel}.",
    "geometry.stride_below_one": "stride must be at least 1, not {stride}.",
    "geometry.dilation_below_one": "dilation must be at least 1, not {dilation}.",
    "geometry.padding_negative": "padding cannot be negative ({padding}).",
    "geometry.padding_too_large": "padding {padding} is more than half the kernel {kernel}; PyTorch allows at most "
                                  "{limit}.",
    "geometry.kernel_too_large": "kernel {kernel} is larger than the padded input ({padded}).",
    "geometry.dilated_kernel_too_large": "kernel {kernel} with dilation {dilation} spans {span} cells and is larger "
                                         "than the padded input ({padded}).",
    "geometry.window_reads_only_padding": "with dilation {dilation} and padding {padding}, window {window} along an "
                                          "axis of length {length} reads only padding; lower the padding or the "
                                          "dilation.",
    "geometry.adaptive_output_below_one": "adaptive output size must be at least 1, not {size}.",
    # Operators and their parameters (registry.py).
    "operator.unknown": "unknown operator {op}; choose one of: {operators}.",
    "operator.unknown_param": "{op} has no parameter {param}; its parameters are: {params}.",
    "operator.unknown_param_none": "{op} has no parameter {param}; its parameters are: none.",
    "operator.no_dilation": "{name} has no dilation (PyTorch's version has none either); set dilation to 1.",
    "param.not_finite_array": "{op}: {param} must contain only finite numbers.",
    "param.not_a_choice": "{op}: {param} must be one of {options}, not {value}.",
    "param.not_bool": "{op}: {param} must be True or False, not {value}.",
    "param.not_size_pair": "{op}: {param} must be a whole number or an (h, w) pair, not {value}.",
    "param.not_a_number": "{op}: {param} must be a number, not {value}.",
    "param.not_whole": "{op}: {param} must be a whole number, not {value}.",
    "param.not_between": "{op}: {param} must be between {low} and {high}, not {value}.",
    "param.not_between_open": "{op}: {param} must be between {low} and {high} (not {low} itself), not {value}.",
    "param.not_greater": "{op}: {param} must be greater than {low}, not {value}.",
    "param.not_at_least": "{op}: {param} must be at least {low}, not {value}.",
    "param.not_at_most": "{op}: {param} must be at most {high}, not {value}.",
    "param.not_finite": "{op}: {param} must be a finite number, not {value}.",
    # Arrays given to the entry points (api.py).
    "input.bad_ndim": "the input must have 2, 3 or 4 dimensions (H, W / C, H, W / N, C, H, W), not {ndim}.",
    "input.empty": "the input is empty (shape {shape}).",
    "gradient.upstream_shape": "the upstream gradient has shape {shape}; the output has {expected}.",
    "gradient.routes_one_map": "gradient routes are computed for one map (H, W), not an array of shape {shape}.",
    "unpool.shape_mismatch": "values {values} and indices {indices} must have one shape (…, Ho, Wo).",
    "unpool.index_out_of_range": "index {index} does not fit a {height}x{width} output; pass the original input "
                                 "size as output_size.",
    "unpool.output_size_out_of_range": "output size {size} cannot come from this pooling: with kernel {kernel}, "
                                       "stride {stride} and padding {padding}, {outputs} outputs come from sizes "
                                       "{low} to {high}, as PyTorch's max_unpool2d requires.",
    # A typed grid (inputs.parse_grid). A row is a whole line, or (``_in_row``) one of the bracketed
    # rows on a line; ``token`` is the typed text, cut after 20 characters, control characters escaped.
    "grid.not_text": "The grid must be text, not {type}.",
    "grid.empty": "The grid is empty: type at least one number.",
    "grid.too_many_rows": "The grid has {rows} rows; at most {limit} are allowed.",
    "grid.too_many_columns": "The grid has {columns} columns on line {line}; at most {limit} are allowed.",
    "grid.too_many_columns_in_row": "The grid has {columns} columns on row {row} of line {line}; at most {limit} "
                                    "are allowed.",
    "grid.not_finite": "'{token}' on line {line} is not a finite number; PoolScope needs ordinary numbers, not nan "
                       "or infinity.",
    "grid.not_finite_in_row": "'{token}' on row {row} of line {line} is not a finite number; PoolScope needs "
                              "ordinary numbers, not nan or infinity.",
    "grid.not_a_number": "'{token}' on line {line} is not a number.",
    "grid.not_a_number_in_row": "'{token}' on row {row} of line {line} is not a number.",
    "grid.too_large": "'{token}' on line {line} is not a finite number; it is too large (the limit is about 1.8e308).",
    "grid.too_large_in_row": "'{token}' on row {row} of line {line} is not a finite number; it is too large (the "
                             "limit is about 1.8e308).",
    # A row whose length differs from the first row's: this row, then the first, each a whole line
    # or one row of a line; ``one_value``: this row has a single value.
    "grid.ragged.line_vs_line": "Line {line} has {values} values, line {first_line} has {first_values}; every row "
                                "needs the same number of values.",
    "grid.ragged.line_vs_row": "Line {line} has {values} values, row {first_row} of line {first_line} has "
                               "{first_values}; every row needs the same number of values.",
    "grid.ragged.row_vs_line": "Row {row} of line {line} has {values} values, line {first_line} has "
                               "{first_values}; every row needs the same number of values.",
    "grid.ragged.row_vs_row": "Row {row} of line {line} has {values} values, row {first_row} of line {first_line} "
                              "has {first_values}; every row needs the same number of values.",
    "grid.ragged.one_value.line_vs_line": "Line {line} has {values} value, line {first_line} has {first_values}; "
                                          "every row needs the same number of values.",
    "grid.ragged.one_value.line_vs_row": "Line {line} has {values} value, row {first_row} of line {first_line} has "
                                         "{first_values}; every row needs the same number of values.",
    "grid.ragged.one_value.row_vs_line": "Row {row} of line {line} has {values} value, line {first_line} has "
                                         "{first_values}; every row needs the same number of values.",
    "grid.ragged.one_value.row_vs_row": "Row {row} of line {line} has {values} value, row {first_row} of line "
                                        "{first_line} has {first_values}; every row needs the same number of values.",
    # An uploaded image (inputs.load_image); ``size`` is in MB with one decimal.
    "image.unknown_mode": "Unknown image mode {mode}; use 'L' (grayscale) or 'RGB' (colour).",
    "image.bad_max_side": "max_side must be a positive whole number, not {value}.",
    "image.empty_file": "The file is empty.",
    "image.file_too_large": "The file is {size} MB; at most {limit} MB can be uploaded.",
    "image.decompression_bomb": "The image has more than {megapixels} megapixels; PoolScope accepts at most {limit} "
                                "megapixels.",
    "image.unreadable": "The file is not an image PoolScope can read; upload a PNG, JPEG, WebP, BMP or GIF file.",
    "image.too_many_pixels": "The image is {height} x {width} pixels (height x width); PoolScope accepts at most "
                             "{limit} megapixels.",
    "image.no_pixels": "The image has no pixels.",
    "image.damaged": "The image could not be decoded; the file may be truncated or damaged.",
    "example.unknown": "There is no example called {name}; choose one of {examples}.",
    # Spatial pyramids (pyramid.py) and pooling across channels (neighbours.py).
    "pyramid.unknown_recipe": "the pyramid recipe must be 'adaptive' or 'paper', not {recipe}.",
    "pyramid.no_levels": "a pyramid needs one or more levels.",
    "pyramid.levels_not_whole": "pyramid levels must be whole numbers or (h, w) pairs of them, not {value}.",
    "pyramid.level_below_one": "a pyramid level needs at least 1 bin, not {bins}.",
    "pyramid.paper_level_too_large": "the paper's recipe needs at most {height} x {width} bins for a {height} x "
                                     "{width} map (its stride floor(a/n) would be 0); use the adaptive recipe.",
    "lrn.input_shape": "the LRN input must have shape (C, H, W) or (N, C, H, W), not {shape}.",
    "lrn.bad_size": "the LRN size must be a whole number of at least 1, not {value}.",
    "lrn.negative": "the LRN {name} must be a finite number of at least 0, not {value}.",
    "lrn.not_positive": "the LRN {name} must be a finite number above 0, not {value}.",
    "bilinear.first_input_shape": "the first bilinear input must have shape (C, H, W) or (N, C, H, W), not {shape}.",
    "bilinear.second_input_shape": "the second bilinear input must have shape (C, H, W) or (N, C, H, W), not "
                                   "{shape}.",
    "bilinear.size_mismatch": "bilinear inputs must share their batch and spatial size: {first} and {second}.",
    # Operators' own checks (operators/).
    "blur.input_too_small": "a size-{size} blur reflects {reach} cell(s) past each border, so the input needs at "
                            "least {need} cells per side; it is {height} x {width}.",
    "blur.pooled_map_too_small": "a size-{size} blur reflects {reach} cell(s) past each border, so the {height} x "
                                 "{width} max-pooled map needs at least {need} cells per side; it is {height} x "
                                 "{width}.",
    "fractional.size_and_ratio": "fractional_max: set output_size or output_ratio, not both.",
    "fractional.ratio_out_of_range": "fractional_max: output_ratio must lie strictly between 0 and 1, not {ratio}.",
    "fractional.empty_output": "fractional_max: output_ratio {ratio} of a {height} x {width} input gives an empty "
                               "output; raise the ratio.",
    "fractional.samples_shape": "fractional_max: samples must have shape (2,), (1, 1, 2) or (N, C, 2), not {shape}.",
    "fractional.samples_differ": "fractional_max: every (n, c) row of samples must be the same, because one set of "
                                 "windows is drawn for the whole call; pool the maps one at a time to give each its "
                                 "own.",
    "fractional.samples_range": "fractional_max: samples must lie in [0, 1).",
    "fractional.windows_do_not_fit": "fractional_max: {outputs} windows of size {kernel} do not fit a {length}-cell "
                                     "side (PyTorch needs output + kernel - 1 <= input).",
    "fractional.graham_overlapping": "fractional_max: Graham's overlapping regions step by 1 or 2 cells, so a "
                                     "{length}-cell side gives {low} to {high} outputs, not {outputs}.",
    "fractional.graham_overlapping_none": "fractional_max: Graham's overlapping regions step by 1 or 2 cells, so a "
                                          "{length}-cell side gives no output (it needs at least 2 cells), not "
                                          "{outputs}.",
    "fractional.graham_disjoint": "fractional_max: Graham's disjoint regions step by 1 or 2 cells, so a "
                                  "{length}-cell side gives {low} to {high} outputs, not {outputs}.",
    "fractional.samples_with_random": "fractional_max: samples set the offset u of the 'torch' and 'graham_pseudo' "
                                      "variants; 'graham_random' draws its steps from seed.",
    "fractional.samples_batch": "fractional_max: samples of shape {shape} do not match N={n}, C={c}.",
    "gated.gate_shape": "gated: the gate must have the kernel's shape {height} x {width}, not {shape}.",
    "lip.logit_shape": "lip: the logit array must have the input's shape (one logit per input cell, maps of "
                       "{height} x {width}), not {shape}.",
    "stochastic.all_zero": "stochastic: every cell is 0 after ReLU, so there is nothing to draw.",
    "weighted_avg.weights_shape": "weighted_avg: the kernel weights must have the kernel's shape {height} x {width}, "
                                  "not {shape}.",
    "weighted_avg.weights_sign": "weighted_avg: the kernel weights must be non-negative with a positive sum.",
    # Sentences the library returns rather than raises (Message).
    "pyramid.wrong_bins_side": "With a {length}-pixel side, {asked} bins use window {window} and stride {stride}, "
                               "which gives {bins} bins, not {asked}.",
    "pyramid.wrong_bins_height": "With a {length}-pixel height, {asked} bins use window {window} and stride "
                                 "{stride}, which gives {bins} bins, not {asked}.",
    "pyramid.wrong_bins_width": "With a {length}-pixel width, {asked} bins use window {window} and stride {stride}, "
                                "which gives {bins} bins, not {asked}.",
    "pyramid.wrong_bins_both": "With a {height}-pixel height, {asked_rows} bins use window {window_rows} and stride "
                               "{stride_rows}, which gives {rows} bins, not {asked_rows}. With a {width}-pixel width, "
                               "{asked_cols} bins use window {window_cols} and stride {stride_cols}, which gives "
                               "{cols} bins, not {asked_cols}.",
    "stochastic.relu_applied_one": "Stochastic pooling is defined for non-negative input (it follows a ReLU): ReLU "
                                   "was applied to 1 negative cell.",
    "stochastic.relu_applied": "Stochastic pooling is defined for non-negative input (it follows a ReLU): ReLU was "
                               "applied to {count} negative cells.",
    "stochastic.nothing_drawn": "every cell is 0 after ReLU, so nothing can be drawn: y = {output}",
    "stochastic.drawn": "p = ({chances}); the draw picked cell {cell} (p = {chance}): y = {output}",
    "stochastic.gradient_train": "Train mode routes each window's gradient to the one cell it sampled (change the "
                                 "seed to resample).",
    "mixed.drawn": "λ drew {drawn}: {kind} = {output}",
    "mixed.gradient_train": "Train mode: each window whose draw chose max sends its whole gradient to its first "
                            "maximum; each one that chose average spreads it evenly over its cells.",
    "softpool.gradient": "SoftPool spreads the gradient over every cell of the window. The exact gradient is "
                         "w_i (1 + (a_i − y)/T) (times the upstream); the official CUDA kernel uses w_i alone.",
    "softpool.column_exact": "exact w_i(1 + (a_i − y)/T)",
    "softpool.column_official": "official rule w_i",
    "blur_max.arithmetic": "1) max of every kernel-sized patch (stride 1) of these {count} cells, 2) blur of those "
                           "maxima with {kernel} ⊗ {kernel} = {output} (between the smallest {low} and the largest "
                           "{high})",
    "fractional.sequence_torch": "PyTorch's sequence: k x k windows starting at int((i+u)α) - int(uα), last at L - k; "
                                 "u = {u_rows} (rows), {u_cols} (columns).",
    "fractional.sequence_random_disjoint": "Graham's random sequence: steps of 1 and 2 cells in an order drawn from "
                                           "seed {seed}; disjoint regions [a(i-1), a(i) - 1].",
    "fractional.sequence_random_overlapping": "Graham's random sequence: steps of 1 and 2 cells in an order drawn "
                                              "from seed {seed}; overlapping regions [a(i-1), a(i)].",
    "fractional.sequence_pseudo_disjoint": "Graham's pseudo-random sequence a(i) = ceil(α(i+u)) - ceil(αu); "
                                           "u = {u_rows} (rows), {u_cols} (columns); disjoint regions "
                                           "[a(i-1), a(i) - 1].",
    "fractional.sequence_pseudo_overlapping": "Graham's pseudo-random sequence a(i) = ceil(α(i+u)) - ceil(αu); "
                                              "u = {u_rows} (rows), {u_cols} (columns); overlapping regions "
                                              "[a(i-1), a(i)].",
    # Adaptive polyphase sampling (operators/aps.py): its checks and its arithmetic.
    "aps.not_a_multiple": "aps: a side of {length} cells is not a multiple of the stride {stride}, so its polyphase "
                          "components differ in size; crop the input or change the stride.",
    "aps.input_too_small": "aps: with kernel {kernel} and stride {stride} an output can read {span} cells along a "
                           "side, more than the {length} the input has.",
    "aps.arithmetic": "max({values}) = {output}, from polyphase component ({row}, {col}): the one with the largest "
                      "L{p} norm over all channels",
    # Torch modules (nn.py).
    "nn.channels_needed": "{op}: Pool2d needs channels=C (the input's channel count) to build its logit "
                          "convolution.",
    # Invariance and pooling theory (invariance.py, theory.py).
    "invariance.unknown_mode": "unknown shift mode {mode}; choose one of: {modes}.",
    "invariance.unknown_transform": "unknown transform {kind}; choose one of: {kinds}.",
    "theory.alpha_out_of_range": "a feature's probability α must be between 0 and 1, not {value}.",
    "theory.pool_size_below_one": "the pool size P must be a whole number of at least 1, not {value}.",
    "theory.draws_below_one": "the number of draws must be a whole number of at least 1, not {value}.",
    # The which-pooling experiment (experiments/which_pooling.py).
    "experiment.operator_unfit": "{op} does not turn a 16x16 map into 8x8 with kernel 2 and stride 2, so it cannot "
                                 "take a pooling layer's place in the experiment; try one of: {operators}.",
}


class Message(str):
    """A sentence the library returns: the English text, carrying the ``key`` and ``fields`` a
    translation needs (``Message("mixed.drawn", drawn=1, kind="max(1, 3)", output="3")``)."""

    def __new__(cls, key: str, **fields):
        text = super().__new__(cls, MESSAGES[key].format(**fields))
        text.key, text.fields = key, fields
        return text
