"""Writes adapters/ann/gemm-topk.onnx, the graph of the exact batched retrieval (adapters/ann/gemm-index.ts):
scores = queries · itemsᵀ (Gemm, transB) and the k best per query (TopK, sorted, ties to the lower row).
Inputs: queries [batch, dim] f32, items [rows, dim] f32, k [1] int64. Outputs: scores [batch, k] f32,
rows [batch, k] int64. The graph has no weights, so one file serves every model version and catalogue.
Usage: /usr/bin/python3 models/export/gemm_topk.py [out.onnx]"""
import sys

import onnx
from onnx import TensorProto, helper


def build():
    inputs = [
        helper.make_tensor_value_info("queries", TensorProto.FLOAT, ["batch", "dim"]),
        helper.make_tensor_value_info("items", TensorProto.FLOAT, ["rows", "dim"]),
        helper.make_tensor_value_info("k", TensorProto.INT64, [1]),
    ]
    outputs = [
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", "k"]),
        helper.make_tensor_value_info("rows", TensorProto.INT64, ["batch", "k"]),
    ]
    nodes = [
        helper.make_node("Gemm", ["queries", "items"], ["all_scores"], transB=1),
        helper.make_node("TopK", ["all_scores", "k"], ["scores", "rows"], axis=1, largest=1, sorted=1),
    ]
    model = helper.make_model(helper.make_graph(nodes, "gemm_topk", inputs, outputs), opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    onnx.save(build(), sys.argv[1] if len(sys.argv) > 1 else "adapters/ann/gemm-topk.onnx")
