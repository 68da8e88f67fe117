"""The PyTorch twin of handnet: the same network, losses, optimisers and schedules, written with
torch.nn.functional, torch.optim and torch.optim.lr_scheduler, never with handnet's code."""
