"""The networks: pure `nn.Module`s (tensors in, tensors out; no pandas, no device logic).

`lstm` (LSTM encoder -> MLP head, the whole horizon at once), `seq2seq` (encoder -> decoder
unrolled over the horizon), `classifier` (packed (bi)LSTM encoder -> MLP head -> logits), and
the pieces they share in `blocks`.
"""
