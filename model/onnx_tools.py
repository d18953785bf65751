"""ONNX graph surgery for the export: clean-up, forward-graph extraction, shared external data, fp16.

All functions work on in-memory ``onnx.ModelProto``s with inline initializers; ``attach_external_data``
moves the big ones into one weights blob shared by several graphs (same names, same offsets).
"""
from __future__ import annotations

import hashlib
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Initializers smaller than this stay inside the .onnx (shape constants, small vectors).
EXTERNAL_MIN_BYTES = 1024
# Each tensor in the weights blob starts on this boundary so typed-array views stay aligned.
EXTERNAL_ALIGN = 64


# ---- clean-up -------------------------------------------------------------------------------

def _consumers(graph: onnx.GraphProto) -> Dict[str, List[onnx.NodeProto]]:
    uses: Dict[str, List[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            uses.setdefault(name, []).append(node)
    return uses


def _rename_input(graph: onnx.GraphProto, old: str, new: str) -> None:
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new


def remove_identities(model: onnx.ModelProto) -> int:
    """Drops Identity nodes (the WebGPU EP has no kernel for them) by pointing consumers at their input."""
    graph = model.graph
    outputs = {o.name for o in graph.output}
    removed = 0
    for node in list(graph.node):
        if node.op_type != "Identity":
            continue
        src, dst = node.input[0], node.output[0]
        if dst in outputs:
            continue
        _rename_input(graph, dst, src)
        graph.node.remove(node)
        removed += 1
    return removed


def constants_to_initializers(model: onnx.ModelProto) -> None:
    """Constant nodes with a tensor value become initializers (one code path for fp16 and external data)."""
    graph = model.graph
    for node in list(graph.node):
        if node.op_type != "Constant" or len(node.attribute) != 1 or node.attribute[0].name != "value":
            continue
        tensor = onnx.TensorProto()
        tensor.CopyFrom(node.attribute[0].t)
        tensor.name = node.output[0]
        graph.initializer.append(tensor)
        graph.node.remove(node)


def share_duplicate_initializers(model: onnx.ModelProto) -> Tuple[int, int]:
    """The exporter folds W.t() into a new initializer while the explicit backward still uses W, so a
    matrix can be stored twice. Identical copies are merged; an initializer that is exactly the transpose
    of another becomes a Transpose node of it (ORT folds that once at session creation; the file keeps one
    copy). Returns (merged, transposed)."""
    graph = model.graph
    by_hash: Dict[Tuple[int, Tuple[int, ...], bytes], str] = {}
    arrays: Dict[str, np.ndarray] = {}
    merged = transposed = 0
    keep: List[onnx.TensorProto] = []
    for init in list(graph.initializer):
        arr = numpy_helper.to_array(init)
        key = (init.data_type, tuple(arr.shape), hashlib.sha256(arr.tobytes()).digest())
        if key in by_hash and arr.nbytes >= EXTERNAL_MIN_BYTES:
            _rename_input(graph, init.name, by_hash[key])
            merged += 1
            continue
        by_hash.setdefault(key, init.name)
        arrays[init.name] = arr
        keep.append(init)
    # Prefer keeping the tensor the first (forward) nodes read, so the forward graph has no Transpose.
    first_use: Dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for name in node.input:
            first_use.setdefault(name, index)
    by_transpose: Dict[Tuple[int, Tuple[int, ...], bytes], str] = {}
    for init in keep:
        arr = arrays[init.name]
        if arr.ndim == 2 and arr.nbytes >= EXTERNAL_MIN_BYTES:
            key = (init.data_type, tuple(arr.T.shape), hashlib.sha256(np.ascontiguousarray(arr.T).tobytes()).digest())
            by_transpose.setdefault(key, init.name)
    final: List[onnx.TensorProto] = []
    new_nodes: List[onnx.NodeProto] = []
    kept: Set[str] = set()
    for init in sorted(keep, key=lambda t: first_use.get(t.name, 1 << 30)):
        arr = arrays[init.name]
        key = (init.data_type, tuple(arr.shape), hashlib.sha256(arr.tobytes()).digest())
        twin = by_transpose.get(key)
        # Only a twin already kept (read earlier) may stand in, so the earlier-used copy survives.
        if arr.ndim == 2 and twin is not None and twin != init.name and twin in kept:
            new_nodes.append(helper.make_node("Transpose", [twin], [init.name], perm=[1, 0],
                                              name=f"share_transpose/{init.name}"))
            transposed += 1
            continue
        kept.add(init.name)
        final.append(init)
    order = {t.name: i for i, t in enumerate(keep)}
    final.sort(key=lambda t: order[t.name])
    del graph.initializer[:]
    graph.initializer.extend(final)
    if new_nodes:
        # Topological order: Transpose nodes of initializers go first.
        nodes = new_nodes + list(graph.node)
        del graph.node[:]
        graph.node.extend(nodes)
    return merged, transposed


def remove_unused(model: onnx.ModelProto, outputs: Optional[Sequence[str]] = None) -> None:
    """Keeps only the nodes (and initializers) the given graph outputs depend on; graph inputs all stay."""
    graph = model.graph
    if outputs is not None:
        wanted = [o for o in graph.output if o.name in outputs]
        if len(wanted) != len(outputs):
            missing = set(outputs) - {o.name for o in wanted}
            raise ValueError(f"graph has no output(s) {sorted(missing)}")
        del graph.output[:]
        graph.output.extend(wanted)
    needed = {o.name for o in graph.output}
    kept: List[onnx.NodeProto] = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(n for n in node.input if n)
    kept.reverse()
    del graph.node[:]
    graph.node.extend(kept)
    inits = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    infos = [v for v in graph.value_info if v.name in needed]
    del graph.value_info[:]
    graph.value_info.extend(infos)


def extract_graph(full: onnx.ModelProto, outputs: Sequence[str]) -> onnx.ModelProto:
    """A copy of ``full`` that computes only ``outputs``: same inputs, same initializer names (so one
    external-data file serves both)."""
    part = onnx.ModelProto()
    part.CopyFrom(full)
    remove_unused(part, outputs)
    return part


def op_types(model: onnx.ModelProto) -> Set[str]:
    return {node.op_type for node in model.graph.node}


# ---- external data --------------------------------------------------------------------------

def attach_external_data(models: Sequence[onnx.ModelProto], location: str) -> bytes:
    """Moves every initializer ≥ EXTERNAL_MIN_BYTES of ``models`` into ONE blob, returned; each model's
    initializers then point into it by (location, offset, length). Tensors with the same name must hold the
    same bytes in every model (the forward graph is pruned from the full one)."""
    blob = bytearray()
    placed: Dict[str, Tuple[int, int, bytes]] = {}
    for model in models:
        for init in model.graph.initializer:
            if init.data_location == TensorProto.EXTERNAL:
                raise ValueError(f"initializer {init.name} is already external")
            raw = numpy_helper.to_array(init).tobytes()
            if len(raw) < EXTERNAL_MIN_BYTES:
                continue
            if init.name in placed:
                if placed[init.name][2] != hashlib.sha256(raw).digest():
                    raise ValueError(f"initializer {init.name} differs between graphs")
            else:
                blob.extend(b"\0" * (-len(blob) % EXTERNAL_ALIGN))
                placed[init.name] = (len(blob), len(raw), hashlib.sha256(raw).digest())
                blob.extend(raw)
            offset, length, _ = placed[init.name]
            dims, dtype, name = list(init.dims), init.data_type, init.name
            init.Clear()
            init.name, init.data_type = name, dtype
            init.dims.extend(dims)
            init.data_location = TensorProto.EXTERNAL
            for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
                entry = init.external_data.add()
                entry.key, entry.value = key, value
    return bytes(blob)


def external_locations(model: onnx.ModelProto) -> Set[str]:
    out: Set[str] = set()
    for init in model.graph.initializer:
        if init.data_location == TensorProto.EXTERNAL:
            out.update(e.value for e in init.external_data if e.key == "location")
    return out


def load_external_data(model: onnx.ModelProto, blob: bytes) -> onnx.ModelProto:
    """A copy of ``model`` with its external initializers read back inline from ``blob`` (for checks)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for init in copy.graph.initializer:
        if init.data_location != TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in init.external_data}
        offset, length = int(info.get("offset", 0)), int(info["length"])
        del init.external_data[:]
        init.data_location = TensorProto.DEFAULT
        init.raw_data = blob[offset: offset + length]
    return copy


# ---- fp16 -----------------------------------------------------------------------------------

# Ops whose float inputs/outputs are all converted to fp16 as they are. Anything else that touches
# float tensors is kept in fp32 between Casts (see to_fp16).
FP16_OPS = {
    "Add", "Sub", "Mul", "Div", "MatMul", "Gemm", "Conv", "Softmax", "Erf", "Exp", "Sqrt", "Abs", "Neg",
    "ReduceMean", "ReduceSum", "ReduceMax", "Transpose", "Reshape", "Concat", "Slice", "Gather", "Squeeze",
    "Unsqueeze", "Flatten", "Expand", "Split", "Where", "Equal", "ArgMax", "Pow", "Tanh", "Sigmoid",
    "Shape", "Range", "Pad", "Cast", "LayerNormalization", "Relu", "Greater", "GreaterOrEqual", "Less",
    "LessOrEqual", "Not", "And", "Or", "Max", "Min", "Clip", "Sign", "Tile",
}


def _float_value_names(model: onnx.ModelProto) -> Set[str]:
    """Names of every float32 tensor in the graph (after shape inference)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    names: Set[str] = set()
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            names.add(vi.name)
    for init in model.graph.initializer:
        if init.data_type == TensorProto.FLOAT:
            names.add(init.name)
    return names


def to_fp16(model: onnx.ModelProto, keep_fp32: Iterable[str] = ()) -> onnx.ModelProto:
    """fp16 weights and compute with float32 graph inputs and outputs.

    Float32 initializers become float16; each float32 graph input is Cast to fp16 once; each output is
    Cast back to fp32; Cast(to=float) nodes cast to fp16 instead. Ops in ``keep_fp32`` (or outside
    FP16_OPS) run in fp32: their fp16 inputs are Cast up and their outputs Cast down.
    """
    keep = set(keep_fp32)
    src = onnx.ModelProto()
    src.CopyFrom(model)
    constants_to_initializers(src)
    floats = _float_value_names(src)
    graph = src.graph
    out = helper.make_graph([], graph.name, [], [], [])
    # Initializers.
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT:
            arr = numpy_helper.to_array(init)
            if np.isfinite(arr).all() and np.abs(arr).max(initial=0) > 65504:
                raise ValueError(f"initializer {init.name} overflows fp16")
            out.initializer.append(numpy_helper.from_array(arr.astype(np.float16), init.name))
        else:
            out.initializer.append(init)
    # Inputs: keep float32 at the boundary, cast once.
    for inp in graph.input:
        out.input.append(inp)
        if inp.type.tensor_type.elem_type == TensorProto.FLOAT:
            out.node.append(helper.make_node("Cast", [inp.name], [inp.name + "/fp16"], to=TensorProto.FLOAT16,
                                             name=f"fp16_in/{inp.name}"))
    renamed = {i.name: i.name + "/fp16" for i in graph.input if i.type.tensor_type.elem_type == TensorProto.FLOAT}
    output_names = {o.name for o in graph.output if o.type.tensor_type.elem_type == TensorProto.FLOAT}
    # Outputs may also feed other nodes (features → logits): those read the fp16 value too.
    renamed.update({name: name + "/fp16" for name in output_names})
    for node in graph.node:
        new = onnx.NodeProto()
        new.CopyFrom(node)
        for i, name in enumerate(new.input):
            new.input[i] = renamed.get(name, name)
        for i, name in enumerate(new.output):
            if name in output_names:
                new.output[i] = name + "/fp16"
        if node.op_type == "Cast":
            for attr in new.attribute:
                if attr.name == "to" and attr.i == TensorProto.FLOAT:
                    attr.i = TensorProto.FLOAT16
            out.node.append(new)
            continue
        if node.op_type in keep or node.op_type not in FP16_OPS:
            if not any(n in floats for n in list(node.input) + list(node.output)):
                out.node.append(new)
                continue
            # Island of fp32: cast float inputs up, outputs back down.
            for i, name in enumerate(node.input):
                if name in floats:
                    up = f"{new.input[i]}/fp32_for/{node.name or node.output[0]}"
                    out.node.append(helper.make_node("Cast", [new.input[i]], [up], to=TensorProto.FLOAT))
                    new.input[i] = up
            casts = []
            for i, name in enumerate(node.output):
                if name in floats:
                    wide = f"{new.output[i]}/fp32"
                    casts.append(helper.make_node("Cast", [wide], [new.output[i]], to=TensorProto.FLOAT16))
                    new.output[i] = wide
            out.node.append(new)
            out.node.extend(casts)
            continue
        out.node.append(new)
    for o in graph.output:
        if o.name in output_names:
            out.node.append(helper.make_node("Cast", [o.name + "/fp16"], [o.name], to=TensorProto.FLOAT,
                                             name=f"fp16_out/{o.name}"))
        out.output.append(o)
    result = helper.make_model(out, opset_imports=list(model.opset_import), producer_name=model.producer_name,
                               producer_version=model.producer_version)
    result.ir_version = model.ir_version
    onnx.checker.check_model(result)
    return result


def fp16_initializer_names(model: onnx.ModelProto) -> List[str]:
    return [t.name for t in model.graph.initializer if t.data_type == TensorProto.FLOAT16]


# ---- intermediate-block features (the optional `layer_features` output) ----------------------

LAYER_FEATURES = "layer_features"


def block_output_names(model: onnx.ModelProto, layers: int) -> List[str]:
    """The residual stream after each block (block 0 first): the input of block l+1's norm1, and for the last
    block the input of the final norm. The exporter's graphs hold exactly 2L+1 LayerNormalization nodes in
    topological order (norm1, norm2 of each block, then the final norm); the backward pass and LRP reuse
    their values without adding any. (Initializer names cannot identify them: equal weights, as in an
    untrained model, are shared under one name.)"""
    norms = [node for node in model.graph.node if node.op_type == "LayerNormalization"]
    if len(norms) != 2 * layers + 1:
        raise ValueError(f"graph has {len(norms)} LayerNormalization nodes, expected 2·{layers}+1")
    return [norms[2 * l + 2].input[0] for l in range(layers)]


def add_layer_features(model: onnx.ModelProto, layers: int, prefix_tokens: int, tokens: int) -> onnx.ModelProto:
    """Adds the float32 output ``layer_features`` [1, 2L, D] to a graph, in place (docs/model-contract.md):
    row l is block l's output at token 0 (CLS), row L + l the mean of block l's output over the patch tokens
    (prefix_tokens … N−1). Only small int64 constants are added, so the weights file does not change.
    Idempotent: a graph that has the output already is left as it is."""
    graph = model.graph
    if any(o.name == LAYER_FEATURES for o in graph.output):
        return model
    blocks = block_output_names(model, layers)
    final_norm = [node for node in graph.node if node.op_type == "LayerNormalization"][-1]
    norm = next(t for t in graph.initializer if t.name == final_norm.input[1])
    fp16, width = norm.data_type == TensorProto.FLOAT16, int(norm.dims[0])
    p = f"{LAYER_FEATURES}/"
    consts = {"zero": [0], "one": [1], "prefix": [prefix_tokens], "tokens": [tokens]}
    for name, value in consts.items():
        graph.initializer.append(numpy_helper.from_array(np.asarray(value, dtype=np.int64), p + name))
    cls_rows, patch_rows = [], []
    for l, x in enumerate(blocks):
        cls, patches, mean = f"{p}cls_{l}", f"{p}patches_{l}", f"{p}patch_mean_{l}"
        graph.node.append(helper.make_node("Slice", [x, p + "zero", p + "one", p + "one"], [cls], name=cls))
        graph.node.append(helper.make_node("Slice", [x, p + "prefix", p + "tokens", p + "one"], [patches], name=patches))
        graph.node.append(helper.make_node("ReduceMean", [patches], [mean], axes=[1], keepdims=1, name=mean))
        cls_rows.append(cls)
        patch_rows.append(mean)
    joined = p + "concat" if fp16 else LAYER_FEATURES
    graph.node.append(helper.make_node("Concat", cls_rows + patch_rows, [joined], axis=1, name=p + "concat"))
    if fp16:
        graph.node.append(helper.make_node("Cast", [joined], [LAYER_FEATURES], to=TensorProto.FLOAT, name=p + "cast"))
    graph.output.append(helper.make_tensor_value_info(LAYER_FEATURES, TensorProto.FLOAT, [1, 2 * layers, width]))
    return model
