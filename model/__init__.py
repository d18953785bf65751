"""Leaf Lens model pipeline: DeiT definition, training, LRP and ONNX export (see docs/model-contract.md)."""
