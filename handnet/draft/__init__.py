"""``handnet adapter``: drafting an adapter for somebody's network file.

``probe`` (run in its own process) imports the file and finds the network, ``find`` reads
layers, layouts and activations off its arrays and its forward, ``lossfit`` reads the loss off one
update, ``calls`` holds the naming guesses and the time limit, ``write`` renders the draft.
"""
