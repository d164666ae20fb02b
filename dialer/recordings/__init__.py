"""Call recordings: the rows that say which attempt was recorded and until when it is
kept (`store`), where the audio is (`files`: Asterisk over ARI, or a folder for the sim
carrier), and the retention job (`jobs`). docs/telephony.md, "Recordings"."""
