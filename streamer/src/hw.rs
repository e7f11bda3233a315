//! Hardware frames: a GPU device, a pool of GPU surfaces, and moving frames between system
//! memory and the GPU, for the encoders that take only GPU surfaces (VAAPI) and for hardware
//! decoding.
//!
//! ffmpeg-next wraps none of FFmpeg's `hwcontext` API, so this is the one module of the
//! workspace with `unsafe`: every call is a plain FFmpeg C call on pointers this module owns
//! (each `AVBufferRef` is released exactly once, in `Drop`) or on frames and codec contexts
//! borrowed mutably for the duration of the call.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::ptr;

use ffmpeg::ffi::{self, AVBufferRef, AVHWDeviceType, AVPixelFormat};
use ffmpeg::{codec, format, frame};
use ffmpeg_next as ffmpeg;

/// A kind of hardware device FFmpeg can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Vaapi,
    Cuda,
    Qsv,
    VideoToolbox,
    D3d11va,
    /// Not used for streaming; present because Mesa's software Vulkan driver (lavapipe) lets
    /// the upload and download paths be tested on a machine without a GPU.
    Vulkan,
}

impl DeviceKind {
    fn av_type(self) -> AVHWDeviceType {
        match self {
            Self::Vaapi => AVHWDeviceType::AV_HWDEVICE_TYPE_VAAPI,
            Self::Cuda => AVHWDeviceType::AV_HWDEVICE_TYPE_CUDA,
            Self::Qsv => AVHWDeviceType::AV_HWDEVICE_TYPE_QSV,
            Self::VideoToolbox => AVHWDeviceType::AV_HWDEVICE_TYPE_VIDEOTOOLBOX,
            Self::D3d11va => AVHWDeviceType::AV_HWDEVICE_TYPE_D3D11VA,
            Self::Vulkan => AVHWDeviceType::AV_HWDEVICE_TYPE_VULKAN,
        }
    }

    /// The pixel format of this device's surfaces.
    fn surface_format(self) -> AVPixelFormat {
        match self {
            Self::Vaapi => AVPixelFormat::AV_PIX_FMT_VAAPI,
            Self::Cuda => AVPixelFormat::AV_PIX_FMT_CUDA,
            Self::Qsv => AVPixelFormat::AV_PIX_FMT_QSV,
            Self::VideoToolbox => AVPixelFormat::AV_PIX_FMT_VIDEOTOOLBOX,
            Self::D3d11va => AVPixelFormat::AV_PIX_FMT_D3D11,
            Self::Vulkan => AVPixelFormat::AV_PIX_FMT_VULKAN,
        }
    }

    /// FFmpeg's name for it (`vaapi`, `cuda`, ...).
    pub fn name(self) -> &'static str {
        // SAFETY: returns a pointer to a static string, or null for an unknown type.
        let name = unsafe { ffi::av_hwdevice_get_type_name(self.av_type()) };
        if name.is_null() {
            return "unknown";
        }
        // SAFETY: non-null, NUL-terminated and static, per FFmpeg's documentation.
        unsafe { CStr::from_ptr(name) }
            .to_str()
            .unwrap_or("unknown")
    }

    /// The devices worth trying for hardware decoding on `os`, best first.
    pub fn decode_candidates(os: &str) -> &'static [DeviceKind] {
        match os {
            "linux" => &[Self::Vaapi, Self::Cuda, Self::Qsv],
            "windows" => &[Self::D3d11va, Self::Cuda, Self::Qsv],
            "macos" => &[Self::VideoToolbox],
            _ => &[],
        }
    }
}

fn av_error(code: i32) -> String {
    ffmpeg::Error::from(code).to_string()
}

/// An open hardware device (`AVHWDeviceContext`).
#[derive(Debug)]
pub struct Device {
    kind: DeviceKind,
    buf: *mut AVBufferRef,
}

// SAFETY: an AVHWDeviceContext is reference counted and FFmpeg allows using one device from
// several threads (that is how decoders and encoders on different threads share it); we only
// ever hand out new references.
unsafe impl Send for Device {}

impl Device {
    /// Opens the default device of `kind` (e.g. `/dev/dri/renderD128` for VAAPI), or `path`.
    pub fn open(kind: DeviceKind, path: Option<&str>) -> Result<Self, String> {
        let path = path
            .map(CString::new)
            .transpose()
            .map_err(|_| "the device path contains a NUL byte".to_owned())?;
        let mut buf = ptr::null_mut();
        // SAFETY: `buf` is a valid out-pointer; the path is NUL-terminated or null.
        let ret = unsafe {
            ffi::av_hwdevice_ctx_create(
                &raw mut buf,
                kind.av_type(),
                path.as_ref().map_or(ptr::null(), |p| p.as_ptr()),
                ptr::null_mut(),
                0,
            )
        };
        if ret < 0 || buf.is_null() {
            return Err(format!(
                "no usable {} device: {}{}",
                kind.name(),
                av_error(ret),
                hint(kind, path.is_some())
            ));
        }
        Ok(Self { kind, buf })
    }

    /// Lets `decoder` decode on this device. FFmpeg's default format negotiation then picks
    /// the device's surfaces when the stream's profile is supported, and software otherwise.
    pub fn attach_decoder(&self, decoder: &mut codec::context::Context) -> Result<(), String> {
        // SAFETY: the context is borrowed mutably and not yet opened; it takes ownership of
        // the new reference and releases it when freed.
        let ctx = unsafe { decoder.as_mut_ptr() };
        // SAFETY: as above; `ctx` is a valid AVCodecContext.
        let codec = unsafe { (*ctx).codec };
        let codec = if codec.is_null() {
            // SAFETY: a plain lookup by id.
            unsafe { ffi::avcodec_find_decoder((*ctx).codec_id) }
        } else {
            codec
        };
        if codec.is_null() {
            return Err("FFmpeg has no decoder for this stream".to_owned());
        }
        if !supports_device(codec, self.kind) {
            // SAFETY: AVCodec names are static NUL-terminated strings.
            let name = unsafe { CStr::from_ptr((*codec).name) }.to_string_lossy();
            return Err(format!(
                "FFmpeg's {name} decoder cannot decode on {}",
                self.kind.name()
            ));
        }
        let r = new_ref(self.buf, "device")?;
        // SAFETY: the context owns `r` from here on (avcodec_free_context unrefs it).
        unsafe { (*ctx).hw_device_ctx = r };
        Ok(())
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // SAFETY: our one reference, released once.
        unsafe { ffi::av_buffer_unref(&raw mut self.buf) };
    }
}

/// FFmpeg's own errors here are mostly "Generic error in an external library"; say what the
/// usual cause is when it can be seen.
fn hint(kind: DeviceKind, explicit_path: bool) -> String {
    if kind != DeviceKind::Vaapi || explicit_path || !cfg!(target_os = "linux") {
        return String::new();
    }
    let nodes: Vec<String> = std::fs::read_dir("/dev/dri")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with("renderD"))
                .collect()
        })
        .unwrap_or_default();
    match nodes.first() {
        None => " (there is no /dev/dri/renderD* node: no GPU, or none passed to this container)"
            .to_owned(),
        Some(node) => format!(
            " (/dev/dri/{node} exists: check that this user may open it, e.g. is in the render \
             group, and that a VA-API driver such as intel-media-va-driver or mesa-va-drivers \
             is installed)"
        ),
    }
}

/// Whether `codec` can decode into surfaces of `kind` through a device context.
fn supports_device(codec: *const ffi::AVCodec, kind: DeviceKind) -> bool {
    let method = ffi::AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX as i32;
    (0..)
        .map_while(|i| {
            // SAFETY: returns null past the last configuration.
            let config = unsafe { ffi::avcodec_get_hw_config(codec, i) };
            // SAFETY: non-null configurations are static.
            (!config.is_null()).then(|| unsafe { *config })
        })
        .any(|c| c.device_type == kind.av_type() && c.methods & method != 0)
}

/// The decoders among `names` that FFmpeg can run on `kind`.
pub fn decoders_for(kind: DeviceKind, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|name| {
            let Ok(c) = CString::new(**name) else {
                return false;
            };
            // SAFETY: a plain lookup by name.
            let codec = unsafe { ffi::avcodec_find_decoder_by_name(c.as_ptr()) };
            !codec.is_null() && supports_device(codec, kind)
        })
        .map(|n| (*n).to_owned())
        .collect()
}

/// A pool of GPU surfaces of one size and software layout (`AVHWFramesContext`), and the upload
/// into it.
#[derive(Debug)]
pub struct Surfaces {
    buf: *mut AVBufferRef,
    sw_format: format::Pixel,
}

// SAFETY: like the device, a frames context is reference counted and may be used from any one
// thread at a time; `Surfaces` is moved with the encoder it feeds, never shared.
unsafe impl Send for Surfaces {}

impl Surfaces {
    /// Surfaces on `device` holding `sw_format` frames of `width` x `height`.
    pub fn new(
        device: &Device,
        sw_format: format::Pixel,
        width: u32,
        height: u32,
    ) -> Result<Self, String> {
        // SAFETY: `device.buf` is live; the result is null or a new frames context reference.
        let buf = unsafe { ffi::av_hwframe_ctx_alloc(device.buf) };
        if buf.is_null() {
            return Err(format!("could not create {} surfaces", device.kind.name()));
        }
        let surfaces = Self { buf, sw_format };
        // SAFETY: `data` of a frames context reference is its AVHWFramesContext, not yet
        // initialised, so its parameters may be set.
        unsafe {
            let frames = frames_ctx(buf);
            (*frames).format = device.kind.surface_format();
            (*frames).sw_format = sw_format.into();
            (*frames).width = width as i32;
            (*frames).height = height as i32;
            // Some drivers (VAAPI among them) need a fixed pool; a few frames in flight in the
            // encoder plus the one being uploaded.
            (*frames).initial_pool_size = 16;
        }
        // SAFETY: parameters are set; on failure `surfaces` drops the reference.
        let ret = unsafe { ffi::av_hwframe_ctx_init(surfaces.buf) };
        if ret < 0 {
            return Err(format!(
                "{} cannot hold {width}x{height} {:?} surfaces: {}",
                device.kind.name(),
                sw_format,
                av_error(ret)
            ));
        }
        Ok(surfaces)
    }

    /// The pixel format an encoder fed from these surfaces must be opened with.
    pub fn hw_format(&self) -> format::Pixel {
        // SAFETY: an initialised frames context.
        let format = unsafe { (*frames_ctx(self.buf)).format };
        format.into()
    }

    /// Makes `encoder` (not yet opened) take its input as these surfaces.
    pub fn attach_encoder(&self, encoder: &mut codec::context::Context) -> Result<(), String> {
        let r = new_ref(self.buf, "surfaces")?;
        // SAFETY: the unopened context takes ownership of `r`.
        unsafe {
            let ctx = encoder.as_mut_ptr();
            (*ctx).hw_frames_ctx = r;
            (*ctx).pix_fmt = (*frames_ctx(self.buf)).format;
        }
        Ok(())
    }

    /// Copies a system-memory frame into a new surface, keeping its timestamp and picture type.
    pub fn upload(&self, sw: &frame::Video) -> Result<frame::Video, String> {
        if sw.format() != self.sw_format {
            return Err(format!(
                "upload expects {:?} frames, got {:?}",
                self.sw_format,
                sw.format()
            ));
        }
        let mut hw = frame::Video::empty();
        // SAFETY: `hw` is an empty frame we own; the pool allocates its surface.
        let ret = unsafe { ffi::av_hwframe_get_buffer(self.buf, hw.as_mut_ptr(), 0) };
        if ret < 0 {
            return Err(format!("no free surface: {}", av_error(ret)));
        }
        transfer(&mut hw, sw, "uploading")?;
        Ok(hw)
    }
}

/// The `AVHWFramesContext` a frames-context reference carries.
#[allow(
    clippy::cast_ptr_alignment,
    reason = "`data` points at the AVHWFramesContext FFmpeg allocated with av_mallocz, which \
              aligns for any type"
)]
fn frames_ctx(buf: *mut AVBufferRef) -> *mut ffi::AVHWFramesContext {
    // SAFETY: only called on live references from `av_hwframe_ctx_alloc`.
    unsafe { (*buf).data.cast() }
}

impl Drop for Surfaces {
    fn drop(&mut self) {
        // SAFETY: our one reference, released once.
        unsafe { ffi::av_buffer_unref(&raw mut self.buf) };
    }
}

/// Whether `frame` lives on a GPU rather than in system memory.
pub fn is_hardware(frame: &frame::Video) -> bool {
    frame.format().descriptor().is_some_and(|d| {
        // SAFETY: the descriptor is static.
        let flags = unsafe { (*d.as_ptr()).flags };
        flags & ffi::AV_PIX_FMT_FLAG_HWACCEL as u64 != 0
    })
}

/// Copies a GPU frame back to system memory (in the surfaces' software layout), keeping its
/// timestamp; what a hardware decoder's output needs before the scaler.
pub fn download(hw: &frame::Video) -> Result<frame::Video, String> {
    let mut sw = frame::Video::empty();
    transfer(&mut sw, hw, "downloading")?;
    Ok(sw)
}

/// Copies `src`'s pixels into `dst` (a surface with a buffer, or an empty frame that FFmpeg
/// allocates in system memory), then its timestamp and other properties.
fn transfer(dst: &mut frame::Video, src: &frame::Video, doing: &str) -> Result<(), String> {
    // SAFETY: `dst` is borrowed mutably and `src` only read, both for the whole call.
    let ret = unsafe { ffi::av_hwframe_transfer_data(dst.as_mut_ptr(), src.as_ptr(), 0) };
    if ret < 0 {
        return Err(format!("{doing} a frame failed: {}", av_error(ret)));
    }
    // SAFETY: as above.
    let ret = unsafe { ffi::av_frame_copy_props(dst.as_mut_ptr(), src.as_ptr()) };
    if ret < 0 {
        return Err(format!(
            "copying frame properties failed: {}",
            av_error(ret)
        ));
    }
    Ok(())
}

/// A new reference to `buf` (the `what`: device or surfaces) for a codec context to own.
fn new_ref(buf: *mut AVBufferRef, what: &str) -> Result<*mut AVBufferRef, String> {
    // SAFETY: callers pass the live reference they hold until their `Drop`.
    let r = unsafe { ffi::av_buffer_ref(buf) };
    if r.is_null() {
        Err(format!("out of memory referencing the hardware {what}"))
    } else {
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init() {
        crate::init_ffmpeg().unwrap();
    }

    /// A frame whose every byte differs from its neighbours', so a lost or shifted row shows.
    fn pattern(width: u32, height: u32) -> frame::Video {
        let mut f = frame::Video::new(format::Pixel::NV12, width, height);
        for plane in 0..f.planes() {
            let stride = f.stride(plane);
            for (i, b) in f.data_mut(plane).iter_mut().enumerate() {
                *b = ((i % stride) * 7 + (i / stride) * 13 + plane * 101) as u8;
            }
        }
        f.set_pts(Some(42));
        f
    }

    /// The visible bytes of a plane, row by row (strides may differ between frames). NV12's
    /// second plane interleaves U and V: full width in bytes, half height.
    fn rows(f: &frame::Video, plane: usize) -> Vec<Vec<u8>> {
        let (width, height) = (f.width() as usize, f.height() as usize >> plane);
        let stride = f.stride(plane);
        (0..height)
            .map(|y| f.data(plane)[y * stride..y * stride + width].to_vec())
            .collect()
    }

    fn vulkan() -> Device {
        Device::open(DeviceKind::Vulkan, None).unwrap_or_else(|e| {
            panic!(
                "{e}: these tests use Mesa's software Vulkan driver so that they run without a \
                 GPU; install mesa-vulkan-drivers (`.ci/run` does)"
            )
        })
    }

    /// Upload and download through real GPU-style surfaces (lavapipe's) give back every pixel
    /// and the timestamp, and the surfaces report a hardware format.
    #[test]
    fn frames_survive_a_round_trip_through_surfaces() {
        init();
        let device = vulkan();
        let surfaces = Surfaces::new(&device, format::Pixel::NV12, 64, 48).unwrap();
        assert_eq!(
            surfaces.hw_format(),
            format::Pixel::from(AVPixelFormat::AV_PIX_FMT_VULKAN)
        );
        for _ in 0..20 {
            // More frames than the pool holds: surfaces must come back to it when dropped.
            let sw = pattern(64, 48);
            let hw = surfaces.upload(&sw).unwrap();
            assert!(is_hardware(&hw));
            assert!(!is_hardware(&sw));
            let back = download(&hw).unwrap();
            assert_eq!(back.format(), format::Pixel::NV12);
            assert_eq!((back.width(), back.height()), (64, 48));
            assert_eq!(back.pts(), Some(42));
            for plane in 0..2 {
                assert_eq!(rows(&back, plane), rows(&sw, plane), "plane {plane}");
            }
        }
    }

    #[test]
    fn an_upload_in_the_wrong_layout_is_refused() {
        init();
        let device = vulkan();
        let surfaces = Surfaces::new(&device, format::Pixel::NV12, 64, 48).unwrap();
        let yuv = frame::Video::new(format::Pixel::YUV420P, 64, 48);
        let Err(err) = surfaces.upload(&yuv) else {
            panic!("a YUV420P frame was uploaded into NV12 surfaces");
        };
        assert!(err.contains("expects"), "{err}");
    }

    /// A device this machine lacks is an error that names it, never a crash.
    #[test]
    fn a_missing_device_is_a_clear_error() {
        init();
        // No test machine has CUDA; VAAPI without /dev/dri fails the same way.
        let err = Device::open(DeviceKind::Cuda, None).unwrap_err();
        assert!(err.starts_with("no usable cuda device: "), "{err}");
        let err = Device::open(DeviceKind::Vaapi, Some("/nonexistent/renderD128")).unwrap_err();
        assert!(err.starts_with("no usable vaapi device: "), "{err}");
    }

    /// FFmpeg 5.1's H.264 decoder has no Vulkan path: attaching says so and leaves the decoder
    /// for software, which is how the pipeline falls back.
    #[test]
    fn a_decoder_without_a_path_for_the_device_is_refused() {
        init();
        let device = vulkan();
        let codec = codec::decoder::find(codec::Id::H264).unwrap();
        let mut ctx = codec::context::Context::new_with_codec(codec);
        let err = device.attach_decoder(&mut ctx).unwrap_err();
        assert!(
            err.contains("h264 decoder cannot decode on vulkan"),
            "{err}"
        );
        // SAFETY: reading a field of a context we own.
        assert!(unsafe { (*ctx.as_mut_ptr()).hw_device_ctx }.is_null());
    }

    #[test]
    fn h264_and_hevc_decode_on_vaapi_in_this_ffmpeg() {
        init();
        let found = decoders_for(DeviceKind::Vaapi, &["h264", "hevc", "nonexistent"]);
        assert_eq!(found, ["h264", "hevc"]);
    }
}
