//! Day blocks as stored text: deflated (`deflate-raw`) by the runtime's own `CompressionStream`
//! and `DecompressionStream` — native zlib, where a deflater compiled to wasm would inflate a
//! month of blocks several times slower — then base64 (D1 hands TEXT over fast, a BLOB as a JSON
//! array of numbers). web-sys has both streams only behind its unstable-API flag, so the two
//! constructors are bound here (each is a `TransformStream`). Must not: know what the bytes mean.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use worker::js_sys::{Array, Uint8Array};
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{Blob, ReadableWritablePair, Response, TransformStream};

use crate::error::AppError;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(extends = TransformStream)]
    type CompressionStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<CompressionStream, JsValue>;

    #[wasm_bindgen(extends = TransformStream)]
    type DecompressionStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<DecompressionStream, JsValue>;
}

const FORMAT: &str = "deflate-raw";

/// Deflates bytes and writes them as base64 text.
pub async fn pack(bytes: &[u8]) -> Result<String, AppError> {
    let stream = CompressionStream::new(FORMAT).map_err(js)?;
    let pair = ReadableWritablePair::new(&stream.readable(), &stream.writable());
    Ok(STANDARD.encode(through(bytes, &pair).await?))
}

/// Reads base64 text and inflates it; `None` when it is not what [`pack`] wrote.
pub async fn unpack(text: &str) -> Result<Option<Vec<u8>>, AppError> {
    let Ok(bytes) = STANDARD.decode(text) else {
        return Ok(None);
    };
    let stream = DecompressionStream::new(FORMAT).map_err(js)?;
    let pair = ReadableWritablePair::new(&stream.readable(), &stream.writable());
    // A corrupt stream errors while it is read: that block is unreadable, not the request.
    Ok(through(&bytes, &pair).await.ok())
}

/// Sends bytes through a transform stream and collects what comes out.
async fn through(bytes: &[u8], pair: &ReadableWritablePair) -> Result<Vec<u8>, AppError> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let blob = Blob::new_with_u8_array_sequence(&parts).map_err(js)?;
    let out = blob.stream().pipe_through(pair);
    let response = Response::new_with_opt_readable_stream(Some(&out)).map_err(js)?;
    let buffer = JsFuture::from(response.array_buffer().map_err(js)?)
        .await
        .map_err(js)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

fn js(e: JsValue) -> AppError {
    AppError::Internal(format!("deflate: {e:?}"))
}
