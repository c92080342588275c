// The till camera in the browser: getUserMedia frames, one at a time, handed to
// a callback that posts them to the agent (which reads them with scanpay.vision).

export function cameraAvailable() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

export class CameraScanner {
  /**
   * `video`: the <video> to show the camera in; `onFrame(blob)`: called with each
   * JPEG frame, awaited before the next one; returns true to stop scanning.
   */
  constructor(video, onFrame, { interval = 120, maxWidth = 640, quality = 0.85 } = {}) {
    this.video = video;
    this.onFrame = onFrame;
    this.interval = interval;
    this.maxWidth = maxWidth;
    this.quality = quality;
    this.stream = null;
    this.running = false;
    this.canvas = document.createElement("canvas");
  }

  /** Open the camera and start the frame loop; false when there is no camera. */
  async start() {
    if (!cameraAvailable()) return false;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: "environment", width: { ideal: 640 }, height: { ideal: 480 } },
      });
    } catch {
      return false;
    }
    if (!this.video.isConnected) {
      this.stop();
      return false;
    }
    this.video.srcObject = this.stream;
    this.video.muted = true;
    this.video.playsInline = true;
    try {
      await this.video.play();
    } catch {
      /* autoplay of a muted stream is allowed; a refusal just shows a still */
    }
    this.running = true;
    this.loop();
    return true;
  }

  stop() {
    this.running = false;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    if (this.video) this.video.srcObject = null;
  }

  async loop() {
    while (this.running) {
      const started = performance.now();
      const blob = await this.grab();
      if (!this.running) break;
      if (blob) {
        let done = false;
        try {
          done = await this.onFrame(blob);
        } catch {
          done = false;
        }
        if (done) {
          this.stop();
          break;
        }
      }
      const rest = this.interval - (performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, Math.max(10, rest)));
    }
  }

  grab() {
    const { videoWidth: width, videoHeight: height } = this.video;
    if (!width || !height || this.video.readyState < 2) return Promise.resolve(null);
    const scale = Math.min(1, this.maxWidth / width);
    this.canvas.width = Math.round(width * scale);
    this.canvas.height = Math.round(height * scale);
    const ctx = this.canvas.getContext("2d");
    ctx.drawImage(this.video, 0, 0, this.canvas.width, this.canvas.height);
    return new Promise((resolve) => this.canvas.toBlob(resolve, "image/jpeg", this.quality));
  }
}
